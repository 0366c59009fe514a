"""The member register (党员名册): each member's class (在职, 离退休, 流动, 两新组织, and classes an
administrator adds), post, skills (特长) and when they can serve, kept by the community's desk
and by the member; and the members gone quiet (隐身), computed from what they did, never typed.

``models``: the classes and the profiles. ``commands``: editing them. ``repository``: the
register's queries. ``views``: the register as a desk reads it.
"""
