-- Campaign delivery report (issue 16): per campaign and channel, recipients whose state changed in the
-- window (queued, skipped, sent, delivered, read, failed, replied; distinct customers), and the rates over sent.
WITH per_recipient AS (
  SELECT
    i.campaign_id,
    i.channel,
    i.customer_pid,
    MAX(CASE WHEN i.campaign_state = 'queued' THEN 1 ELSE 0 END) AS queued,
    MAX(CASE WHEN i.campaign_state = 'skipped' THEN 1 ELSE 0 END) AS skipped,
    MAX(CASE WHEN i.campaign_state = 'sent' THEN 1 ELSE 0 END) AS sent,
    MAX(CASE WHEN i.campaign_state IN ('delivered', 'read') THEN 1 ELSE 0 END) AS delivered,
    MAX(CASE WHEN i.campaign_state = 'read' THEN 1 ELSE 0 END) AS read_,
    MAX(CASE WHEN i.campaign_state = 'failed' THEN 1 ELSE 0 END) AS failed,
    MAX(CASE WHEN i.campaign_state = 'replied' THEN 1 ELSE 0 END) AS replied
  FROM interactions i
  CROSS JOIN report_window w
  WHERE i.event_type = 'campaign_recipient'
    AND i.event_time >= w.start_ts AND i.event_time < w.end_ts
  GROUP BY i.campaign_id, i.channel, i.customer_pid
)
SELECT
  campaign_id,
  channel,
  SUM(queued) AS queued,
  SUM(skipped) AS skipped,
  SUM(sent) AS sent,
  SUM(delivered) AS delivered,
  SUM(read_) AS read,
  SUM(failed) AS failed,
  SUM(replied) AS replied,
  CAST(SUM(delivered) AS DOUBLE) / NULLIF(SUM(sent), 0) AS delivery_rate,
  CAST(SUM(read_) AS DOUBLE) / NULLIF(SUM(sent), 0) AS read_rate,
  CAST(SUM(replied) AS DOUBLE) / NULLIF(SUM(sent), 0) AS reply_rate,
  CAST(SUM(failed) AS DOUBLE) / NULLIF(SUM(sent) + SUM(CASE WHEN failed = 1 AND sent = 0 THEN 1 ELSE 0 END), 0)
    AS failure_rate
FROM per_recipient
GROUP BY campaign_id, channel
ORDER BY campaign_id, channel
