"""收 as planned work: households (住户), who looks after them (联户, grid workers), home visits (走访),
inspection rounds (巡查) and the coverage computed from them (覆盖率).

A visit costs a member one tap; every ledger and coverage figure here is computed from the visits
and rounds themselves, never typed in. The visit plan (how often each kind of household is due,
and by whom) is part of the versioned scoring policy (``workflow.scoring.policy``, section
``visits``), so a street office changes it like any other rule and old periods keep their plan.

- ``models``: the tables;
- ``plan``: the policy section and the calendar windows it counts in;
- ``commands``: the use cases (households, pairings, visits, rounds);
- ``repository``: the queries;
- ``coverage``: the figures, per member, building, grid, community and street.
"""
