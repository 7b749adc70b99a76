-- Handoffs to humans by reason.
SELECT
  COALESCE(i.reason, 'unspecified') AS reason,
  COUNT(*) AS handoffs,
  COUNT(DISTINCT i.conversation_id) AS conversations
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'handoff'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
GROUP BY COALESCE(i.reason, 'unspecified')
ORDER BY handoffs DESC, reason
