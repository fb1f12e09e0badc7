"""Customer profiles: contact data, consent, preferences, segment, value tier, scores, merge."""
