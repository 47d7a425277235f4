//! The bounce log: every refusal and bounce, one JSON object per line.
