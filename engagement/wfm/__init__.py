"""Workforce management: forecasts of contacts and handle time, staffing (Erlang C and A), schedules and
real-time adherence, for the queues of the interaction history (see docs/wfm.md).

- ``planning``: what WFM plans — one queue on one channel, with its staffing targets.
- ``forecasting``: interval forecasts with backtests, special days and planners' adjustments.
- ``staffing``: Erlang C / Erlang A / chat staffing, the required agents per interval, the calculator.
- ``scheduling``: contracts, shift templates, time off, the weekly schedule solver, swaps and approvals.
- ``adherence``: each agent's presence against their schedule, live and day by day.
"""
