//! One email per recipient: headers, MIME parts, inline images, DKIM.
