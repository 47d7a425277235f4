//! The live preview server.
