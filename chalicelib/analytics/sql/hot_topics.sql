-- Hot topics: intents whose bot-decision count rose against the previous period of equal length.
WITH counts AS (
  SELECT
    COALESCE(i.intent, 'unknown') AS intent,
    SUM(CASE WHEN i.event_time >= w.start_ts AND i.event_time < w.end_ts THEN 1 ELSE 0 END) AS current_count,
    SUM(CASE WHEN i.event_time >= w.prev_start_ts AND i.event_time < w.start_ts THEN 1 ELSE 0 END)
      AS previous_count
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_type = 'bot_decision'
    AND i.event_time >= w.prev_start_ts
    AND i.event_time < w.end_ts
  GROUP BY COALESCE(i.intent, 'unknown')
)
SELECT
  intent,
  current_count,
  previous_count,
  current_count - previous_count AS count_change,
  CAST(current_count - previous_count AS DOUBLE) / NULLIF(previous_count, 0) AS growth
FROM counts
WHERE current_count > previous_count
ORDER BY count_change DESC, intent
LIMIT 20
