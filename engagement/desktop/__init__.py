"""The agent desktop: the browser workspace at /desk/ and its one websocket, ws/desktop/."""
