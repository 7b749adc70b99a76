-- Average handle time of resolutions, by who resolved.
SELECT
  COUNT(*) AS resolutions,
  AVG(i.handle_seconds) AS avg_handle_seconds,
  COALESCE(SUM(CASE WHEN i.resolved_by = 'agent' THEN 1 ELSE 0 END), 0) AS agent_resolutions,
  AVG(CASE WHEN i.resolved_by = 'agent' THEN i.handle_seconds END) AS avg_agent_handle_seconds,
  COALESCE(SUM(CASE WHEN i.resolved_by = 'bot' THEN 1 ELSE 0 END), 0) AS bot_resolutions,
  AVG(CASE WHEN i.resolved_by = 'bot' THEN i.handle_seconds END) AS avg_bot_handle_seconds
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'resolution'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
