"""restapi's background jobs process (grading, weekly cycles, reminders) and its runner."""
