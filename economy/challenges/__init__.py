"""Daily challenges: pool, rotation, answers, progress, completions, streaks."""
