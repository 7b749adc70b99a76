-- NPS: promoters (9-10) minus detractors (0-6), in percent of responses.
SELECT
  COUNT(*) AS responses,
  COALESCE(SUM(CASE WHEN i.score >= 9 THEN 1 ELSE 0 END), 0) AS promoters,
  COALESCE(SUM(CASE WHEN i.score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), 0) AS passives,
  COALESCE(SUM(CASE WHEN i.score <= 6 THEN 1 ELSE 0 END), 0) AS detractors,
  100.0 * CAST(SUM(CASE WHEN i.score >= 9 THEN 1 WHEN i.score <= 6 THEN -1 ELSE 0 END) AS DOUBLE)
    / NULLIF(COUNT(*), 0) AS nps
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'nps'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
