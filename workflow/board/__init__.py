"""公示: the public notice board of a community or a street, for anyone without a login.

What it holds (``views.board``): the three rates and the commendation ranking of the latest
*published* period only (a community's own publication, else its street's); the requests of that
month counted by category; a few of its closed requests as examples, each with the building-level
place, and its description and result scrubbed of phone numbers, rooms and residents' names; and
this month's visit coverage. Nothing unpublished and no resident's identity: members in the
ranking appear as they chose to show themselves (``workflow.identity``). ``pdf`` prints it for
the notice board (宣传栏).
"""
