//! Member lists: CSV as people export them, cleaned into valid, unique, subscribed recipients.
