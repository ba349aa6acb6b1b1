"""Community: Star Blogger posts, follows, the Fan Zone feed and the creator leaderboard."""
