-- First-contact resolution: conversations resolved in the window with exactly one resolution,
-- no transfer and no reopened ticket, over all conversations resolved in the window.
WITH per_conversation AS (
  SELECT
    i.conversation_id,
    SUM(CASE WHEN i.event_type = 'resolution' AND i.event_time >= w.start_ts AND i.event_time < w.end_ts THEN 1 ELSE 0 END) AS resolutions_in_window,
    SUM(CASE WHEN i.event_type = 'resolution' THEN 1 ELSE 0 END) AS resolutions,
    SUM(CASE WHEN i.event_type = 'transfer' THEN 1 ELSE 0 END) AS transfers,
    SUM(CASE WHEN i.event_type = 'ticket_change' AND i.to_status = 'reopened' THEN 1 ELSE 0 END) AS reopens
  FROM interactions i
  CROSS JOIN report_window w
  GROUP BY i.conversation_id
)
SELECT
  COUNT(*) AS resolved_conversations,
  COALESCE(SUM(CASE WHEN resolutions = 1 AND transfers = 0 AND reopens = 0 THEN 1 ELSE 0 END), 0)
    AS first_contact_resolved,
  CAST(SUM(CASE WHEN resolutions = 1 AND transfers = 0 AND reopens = 0 THEN 1 ELSE 0 END) AS DOUBLE)
    / NULLIF(COUNT(*), 0) AS fcr_rate
FROM per_conversation
WHERE resolutions_in_window > 0
