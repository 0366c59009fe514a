"""组织生活 and annual targets: the party life of the members registered with a community.

A community's staff or secretary posts an activity (固定学习日, 主题党日, a volunteer activity, a care
visit to a needy or elderly member) with its day; the activity gets a short check-in code to post
on the wall or read out. A member checks in with the code on the day, or the organiser checks them
in. Each attendance earns the points the policy in force gives that kind of activity, in the same
point ledger as tasks and visits, so party life counts in the assessment through the policy and a
run reproduces with the ledger marks it read.

Annual targets (hours, household visits, activities) come from the policy in force at the start of
a year, unless a secretary set a member's own; the mid-year check and the year-end assessment read
the ledgers against them. Nothing is filled in by hand: the figures are the work recorded.
"""
