-- Daily trends: conversations (by day of first customer message), bot containment, CSAT, SLA breaches.
WITH conv AS (
  SELECT
    i.conversation_id,
    CAST(date_trunc('day', MIN(CASE WHEN i.event_type = 'message_in' THEN i.event_time END)) AS VARCHAR) AS day,
    MAX(CASE WHEN i.event_type = 'bot_decision' THEN 1 ELSE 0 END) AS bot_handled,
    MAX(CASE WHEN i.event_type = 'handoff' THEN 1 ELSE 0 END) AS escalated
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY i.conversation_id
),
conv_daily AS (
  SELECT
    day,
    COUNT(*) AS conversations,
    SUM(bot_handled) AS bot_handled,
    SUM(CASE WHEN bot_handled = 1 AND escalated = 0 THEN 1 ELSE 0 END) AS contained
  FROM conv
  WHERE day IS NOT NULL
  GROUP BY day
),
other_daily AS (
  SELECT
    CAST(date_trunc('day', i.event_time) AS VARCHAR) AS day,
    SUM(CASE WHEN i.event_type = 'csat' THEN 1 ELSE 0 END) AS csat_responses,
    AVG(CASE WHEN i.event_type = 'csat' THEN CAST(i.score AS DOUBLE) END) AS avg_csat,
    SUM(CASE WHEN i.event_type = 'sla_breach' THEN 1 ELSE 0 END) AS sla_breaches
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_type IN ('csat', 'sla_breach')
    AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY CAST(date_trunc('day', i.event_time) AS VARCHAR)
),
days AS (
  SELECT day FROM conv_daily
  UNION
  SELECT day FROM other_daily
)
SELECT
  d.day,
  COALESCE(c.conversations, 0) AS conversations,
  CAST(c.contained AS DOUBLE) / NULLIF(c.bot_handled, 0) AS containment_rate,
  COALESCE(o.csat_responses, 0) AS csat_responses,
  o.avg_csat,
  COALESCE(o.sla_breaches, 0) AS sla_breaches
FROM days d
LEFT JOIN conv_daily c ON c.day = d.day
LEFT JOIN other_daily o ON o.day = d.day
ORDER BY d.day
