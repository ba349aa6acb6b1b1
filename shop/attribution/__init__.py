"""Attribution: touches, referral links, coupons, the rule and its receipts, rollups, reports, earnings."""
