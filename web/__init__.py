"""HTML pages (Jinja2). They call the same commands and queries as the JSON API."""


def routers():
    """Every page router, in the order their paths are matched."""
    from .routes import (
        auth,
        board,
        deliberation,
        desk,
        intake,
        member,
        partylife,
        people,
        requests,
        resident,
        secretary,
        visits,
        volunteers,
    )

    return [auth.router, requests.router, intake.router, resident.router, member.router, desk.router, secretary.router,
            visits.router, board.router, people.router, volunteers.router,
            deliberation.router, partylife.router]
