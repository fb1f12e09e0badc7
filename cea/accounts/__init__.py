"""Users, roles, teams and API tokens: who may do what in CEA."""
