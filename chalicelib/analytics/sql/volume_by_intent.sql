-- Bot decisions per detected intent.
SELECT
  COALESCE(i.intent, 'unknown') AS intent,
  COUNT(*) AS decisions,
  COUNT(DISTINCT i.conversation_id) AS conversations,
  AVG(i.confidence) AS avg_confidence,
  SUM(CASE WHEN i.action = 'handoff' THEN 1 ELSE 0 END) AS handoffs
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'bot_decision'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
GROUP BY COALESCE(i.intent, 'unknown')
ORDER BY decisions DESC, intent
