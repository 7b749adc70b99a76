-- CSAT split by who handled the rated conversation (issue 16): 'bot_only' (no agent was assigned,
-- replied or resolved it, as far as the archive read for the report shows) or 'with_agent'. With the
-- desk's bot_survey_share, conversations the bot closed alone are rated too, so containment and
-- satisfaction can be compared.
WITH agent_conversations AS (
  SELECT DISTINCT i.conversation_id
  FROM interactions i
  WHERE i.event_type IN ('assignment', 'agent_reply')
     OR (i.event_type = 'resolution' AND i.resolved_by = 'agent')
)
SELECT
  CASE WHEN a.conversation_id IS NULL THEN 'bot_only' ELSE 'with_agent' END AS handling,
  COUNT(*) AS responses,
  AVG(CAST(i.score AS DOUBLE)) AS avg_score,
  CAST(SUM(CASE WHEN i.score >= 4 THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(COUNT(*), 0) AS satisfied_rate
FROM interactions i
CROSS JOIN report_window w
LEFT JOIN agent_conversations a ON a.conversation_id = i.conversation_id
WHERE i.event_type = 'csat'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
GROUP BY CASE WHEN a.conversation_id IS NULL THEN 'bot_only' ELSE 'with_agent' END
