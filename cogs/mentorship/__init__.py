"""Mentorship: qualified mentors, explainable matching, private rooms, goals with rewards,
recognition, guides and skill verification."""

from cogs.mentorship._cog import MentorshipCog
from cogs.mentorship._guides import ReviewButton, UpvoteButton
from cogs.mentorship._rooms import MentorshipRooms
from cogs.mentorship._views import ApprovalButton, ProposalButton


async def setup(bot) -> None:
    """Register the cog, its persistent buttons and the proposal/check-in sweep."""
    bot.add_dynamic_items(ProposalButton, ApprovalButton, ReviewButton, UpvoteButton)
    await bot.add_cog(MentorshipCog(bot))
    await bot.add_cog(MentorshipRooms(bot))  # the rooms, their notices and the sweep
