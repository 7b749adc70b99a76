-- SLA: tickets active in the window (changed or breached) and the share with at least one breach.
WITH t AS (
  SELECT
    i.ticket_id,
    MAX(CASE WHEN i.event_type = 'sla_breach' THEN 1 ELSE 0 END) AS breached,
    SUM(CASE WHEN i.event_type = 'sla_breach' AND i.kind = 'first_response' THEN 1 ELSE 0 END) AS fr_breaches,
    SUM(CASE WHEN i.event_type = 'sla_breach' AND i.kind = 'resolution' THEN 1 ELSE 0 END) AS res_breaches
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_type IN ('ticket_change', 'sla_breach')
    AND i.ticket_id IS NOT NULL
    AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY i.ticket_id
)
SELECT
  COUNT(*) AS tickets,
  COALESCE(SUM(breached), 0) AS breached_tickets,
  COALESCE(SUM(fr_breaches), 0) AS first_response_breaches,
  COALESCE(SUM(res_breaches), 0) AS resolution_breaches,
  CAST(SUM(breached) AS DOUBLE) / NULLIF(COUNT(*), 0) AS breach_rate
FROM t
