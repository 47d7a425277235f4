//! Delivery: SMTP connections, rate limit, retries, the journal and the bounce log.
