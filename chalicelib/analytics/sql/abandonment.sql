-- Conversations closed in the window, and the share abandoned by the customer.
SELECT
  COUNT(*) AS closed,
  COALESCE(SUM(CASE WHEN i.abandoned THEN 1 ELSE 0 END), 0) AS abandoned,
  CAST(SUM(CASE WHEN i.abandoned THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(COUNT(*), 0) AS abandonment_rate
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'conversation_closed'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
