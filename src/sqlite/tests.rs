//! Unit tests of the reader on databases built in the test.
