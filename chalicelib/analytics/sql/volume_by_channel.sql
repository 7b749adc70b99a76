-- Volume by channel: conversations with a customer message, inbound and outbound messages.
SELECT
  i.channel,
  COUNT(DISTINCT CASE WHEN i.event_type = 'message_in' THEN i.conversation_id END) AS conversations,
  SUM(CASE WHEN i.event_type = 'message_in' THEN 1 ELSE 0 END) AS messages_in,
  SUM(CASE WHEN i.event_type = 'message_out' THEN 1 ELSE 0 END) AS messages_out
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_time >= w.start_ts AND i.event_time < w.end_ts
GROUP BY i.channel
ORDER BY conversations DESC, i.channel
