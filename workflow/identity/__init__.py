"""亮身份: members and grid workers show residents who serves their building.

A member chooses what residents see of them (``models.MemberShowing``): their name, their home
unit, a short title (党员中心户, 楼栋长). Who serves a building (``views.serving``): the members
looking after its households (联户), the members whose responsibility zone is the building or its
grid, and the grid workers of its grid. The resident's request page, the tracking page, the
public board and the stairwell poster (``poster``) show them as chosen.
"""
