"""建言 and 议事: residents' and members' suggestions, and the one-issue-one-decision meetings of a
community that take them (and requests) up.

A suggestion is not a problem to fix but an idea to weigh: received → under deliberation → adopted
or declined with a reason → done. A meeting (议事会) records its topic, what it takes up, who took
part, the options, the votes and the decision; an adopted decision is posted on the public board.
Both lifecycles are tables (``lifecycle.py``) of the same kind as the request's.
"""
