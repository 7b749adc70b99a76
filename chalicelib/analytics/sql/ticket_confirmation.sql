-- Ticket loop with the customer (issue 16): solved tickets whose customer was asked "is your problem
-- solved?" in the window, and how they answered; confirmation_rate = confirmed / asked.
SELECT
  COUNT(DISTINCT CASE WHEN i.outcome = 'asked' THEN i.ticket_id END) AS asked,
  COUNT(DISTINCT CASE WHEN i.outcome = 'confirmed' THEN i.ticket_id END) AS confirmed,
  COUNT(DISTINCT CASE WHEN i.outcome = 'reopened' THEN i.ticket_id END) AS reopened,
  CAST(COUNT(DISTINCT CASE WHEN i.outcome = 'confirmed' THEN i.ticket_id END) AS DOUBLE)
    / NULLIF(COUNT(DISTINCT CASE WHEN i.outcome = 'asked' THEN i.ticket_id END), 0) AS confirmation_rate,
  CAST(COUNT(DISTINCT CASE WHEN i.outcome IN ('confirmed', 'reopened') THEN i.ticket_id END) AS DOUBLE)
    / NULLIF(COUNT(DISTINCT CASE WHEN i.outcome = 'asked' THEN i.ticket_id END), 0) AS response_rate
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'ticket_confirmation'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
