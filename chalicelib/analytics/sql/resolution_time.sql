-- Resolution time: first resolution in the window minus the conversation's first customer message.
WITH res AS (
  SELECT i.conversation_id, MIN(i.event_epoch) AS resolved_at
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_type = 'resolution'
    AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY i.conversation_id
),
starts AS (
  SELECT conversation_id, MIN(event_epoch) AS started_at
  FROM interactions
  WHERE event_type = 'message_in'
  GROUP BY conversation_id
)
SELECT
  COUNT(*) AS resolved_conversations,
  AVG(r.resolved_at - s.started_at) AS avg_resolution_seconds,
  MAX(r.resolved_at - s.started_at) AS max_resolution_seconds
FROM res r
JOIN starts s ON s.conversation_id = r.conversation_id
WHERE r.resolved_at >= s.started_at
