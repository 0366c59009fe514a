"""志愿者 and the time bank (时间银行): residents who are not party members serve beside the members.

A volunteer is an account of the ``volunteer`` role with a member row of kind ``volunteer`` (no home
unit): they register with communities and claim tasks like a member, but only tasks whose category
allows volunteers. The hours of their verified tasks are their earnings, straight from the hours
ledger; what they spend (a service they received, recorded by staff) is this package's ledger. The
balance is the difference of the two, so no fact is written twice.
"""
