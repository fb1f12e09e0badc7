"""Call control through Twilio-style voice webhooks: CEA answers a call's webhooks with TwiML.

- ``twiml.py`` writes the TwiML (Say, Gather, Enqueue, Dial, Play, Record, Redirect, Leave, Hangup);
- ``client.py`` speaks the provider's REST call-update API (``POST …/Calls/{CallSid}.json``);
- ``services.py`` runs a call: the webhooks in, the self-service flow on the call, the wait in the
  routing queue, the bridge to the agent who accepts, hold, transfer, hang-up, recordings;
- ``apis.py`` the webhook endpoints (signed with ``X-Twilio-Signature``) and the agents' call actions;
- ``tasks.py`` the call update sent after an agent accepts (retried while the provider is down).

docs/channels.md, "Voice: call control", describes the whole.
"""
