//! The social benchmark's data set, as both its generator (`social-data`) and its load
//! (`api-bench --scenario feed|feed-lag`) know it: user `i` is `feed<i>` with `PASSWORD`, and
//! follows `followees(i, users)`, 80 to 120 others (100 on average), spread over everyone.

/// Every generated user's password; it meets the password rule.
pub const PASSWORD: &str = "Bench#2026pw";

pub fn username(user: usize) -> String {
    format!("feed{user}")
}

/// The users `user` follows: distinct, never `user`, the same on every call.
pub fn followees(user: usize, users: usize) -> Vec<usize> {
    if users < 2 {
        return Vec::new();
    }
    let count = (80 + mix(user as u64) % 41).min(users as u64 - 1) as usize;
    // A stride prime to `users` visits `users - 1` others before coming back to `user`.
    let mut stride = 1 + (mix(user as u64 ^ 0x5eed) % (users as u64 - 1)) as usize;
    while gcd(stride, users) != 1 {
        stride = stride % (users - 1) + 1;
    }
    (1..=count).map(|step| (user + step * stride) % users).collect()
}

/// Who follows each user: the inverse of `followees`, indexed by user.
pub fn followers(users: usize) -> Vec<Vec<usize>> {
    let mut followers = vec![Vec::new(); users];
    for user in 0..users {
        for followee in followees(user, users) {
            followers[followee].push(user);
        }
    }
    followers
}

/// SplitMix64: a cheap, well-spread hash, so the graph needs no random generator or seed file.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyone_follows_about_a_hundred_distinct_others() {
        let users = 10_000;
        let mut total = 0;
        for user in 0..users {
            let followees = followees(user, users);
            assert!((80..=120).contains(&followees.len()), "user {user} follows {}", followees.len());
            let mut distinct = followees.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), followees.len(), "user {user} follows someone twice");
            assert!(!followees.contains(&user));
            total += followees.len();
        }
        assert!((990_000..=1_010_000).contains(&total), "{total} follows");
        assert_eq!(followers(users).iter().map(Vec::len).sum::<usize>(), total);
    }

    #[test]
    fn a_tiny_graph_still_has_no_self_follow() {
        assert_eq!(followees(0, 1), Vec::<usize>::new());
        assert_eq!(followees(1, 2), vec![0]);
    }
}
