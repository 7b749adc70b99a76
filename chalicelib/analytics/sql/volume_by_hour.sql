-- Inbound volume per UTC hour and channel.
SELECT
  CAST(date_trunc('hour', i.event_time) AS VARCHAR) AS hour_start,
  i.channel,
  COUNT(*) AS messages_in,
  COUNT(DISTINCT i.conversation_id) AS conversations
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'message_in'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
GROUP BY CAST(date_trunc('hour', i.event_time) AS VARCHAR), i.channel
ORDER BY hour_start, i.channel
