-- Time waiting in the human queue.
SELECT
  COUNT(*) AS waits,
  AVG(i.wait_seconds) AS avg_wait_seconds,
  MAX(i.wait_seconds) AS max_wait_seconds,
  COALESCE(SUM(CASE WHEN i.wait_seconds > 60 THEN 1 ELSE 0 END), 0) AS waits_over_60s
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'queue_wait'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
