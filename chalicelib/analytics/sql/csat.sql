-- CSAT: average score (1-5), share satisfied (4-5) and the distribution.
SELECT
  COUNT(*) AS responses,
  AVG(CAST(i.score AS DOUBLE)) AS avg_score,
  CAST(SUM(CASE WHEN i.score >= 4 THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(COUNT(*), 0) AS satisfied_rate,
  COALESCE(SUM(CASE WHEN i.score = 1 THEN 1 ELSE 0 END), 0) AS score_1,
  COALESCE(SUM(CASE WHEN i.score = 2 THEN 1 ELSE 0 END), 0) AS score_2,
  COALESCE(SUM(CASE WHEN i.score = 3 THEN 1 ELSE 0 END), 0) AS score_3,
  COALESCE(SUM(CASE WHEN i.score = 4 THEN 1 ELSE 0 END), 0) AS score_4,
  COALESCE(SUM(CASE WHEN i.score = 5 THEN 1 ELSE 0 END), 0) AS score_5
FROM interactions i
CROSS JOIN report_window w
WHERE i.event_type = 'csat'
  AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
