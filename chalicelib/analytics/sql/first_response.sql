-- First response time: bot (first bot message after the first customer message) and human
-- (first agent reply after the first handoff), per conversation, averaged.
WITH firsts AS (
  SELECT
    i.conversation_id,
    MIN(CASE WHEN i.event_type = 'message_in' THEN i.event_epoch END) AS first_in,
    MIN(CASE WHEN i.event_type = 'handoff' THEN i.event_epoch END) AS first_handoff
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY i.conversation_id
),
bot AS (
  SELECT f.conversation_id, MIN(i.event_epoch) - f.first_in AS seconds
  FROM firsts f
  JOIN interactions i ON i.conversation_id = f.conversation_id
  WHERE i.event_type = 'message_out' AND i.sender_type = 'bot' AND i.event_epoch >= f.first_in
  GROUP BY f.conversation_id, f.first_in
),
human AS (
  SELECT f.conversation_id, MIN(i.event_epoch) - f.first_handoff AS seconds
  FROM firsts f
  JOIN interactions i ON i.conversation_id = f.conversation_id
  WHERE i.event_type = 'agent_reply' AND i.event_epoch >= f.first_handoff
  GROUP BY f.conversation_id, f.first_handoff
)
SELECT
  b.responses AS bot_responses,
  b.avg_seconds AS avg_bot_first_response_seconds,
  h.responses AS human_responses,
  h.avg_seconds AS avg_human_first_response_seconds,
  h.max_seconds AS max_human_first_response_seconds
FROM (SELECT COUNT(*) AS responses, AVG(seconds) AS avg_seconds FROM bot) b
CROSS JOIN (SELECT COUNT(*) AS responses, AVG(seconds) AS avg_seconds, MAX(seconds) AS max_seconds FROM human) h
