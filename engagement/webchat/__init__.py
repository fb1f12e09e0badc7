"""The web chat widget: a script any website embeds, talking to a conversation over a websocket."""
