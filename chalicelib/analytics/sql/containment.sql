-- Bot containment and escalation: conversations with a customer message in the window; contained =
-- handled by the bot (a bot decision) and never handed over to a human.
WITH conv AS (
  SELECT
    i.conversation_id,
    MAX(CASE WHEN i.event_type = 'bot_decision' THEN 1 ELSE 0 END) AS bot_handled,
    MAX(CASE WHEN i.event_type = 'handoff' THEN 1 ELSE 0 END) AS escalated
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY i.conversation_id
  HAVING MAX(CASE WHEN i.event_type = 'message_in' THEN 1 ELSE 0 END) = 1
)
SELECT
  COUNT(*) AS conversations,
  COALESCE(SUM(bot_handled), 0) AS bot_handled,
  COALESCE(SUM(escalated), 0) AS escalated,
  COALESCE(SUM(CASE WHEN bot_handled = 1 AND escalated = 0 THEN 1 ELSE 0 END), 0) AS contained,
  CAST(SUM(CASE WHEN bot_handled = 1 AND escalated = 0 THEN 1 ELSE 0 END) AS DOUBLE)
    / NULLIF(SUM(bot_handled), 0) AS containment_rate,
  CAST(SUM(escalated) AS DOUBLE) / NULLIF(COUNT(*), 0) AS escalation_rate
FROM conv
