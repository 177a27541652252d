//! The shared throttle, driven by tokio's paused clock so that minutes pass instantly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use stockpilot_data_engineering::{Throttle, ThrottleSettings};
use tokio::time::Instant;

async fn start_times(throttle: &Throttle, calls: usize) -> Vec<u64> {
    let origin = Instant::now();
    let mut times = Vec::new();
    for _ in 0..calls {
        throttle.acquire().await;
        times.push(origin.elapsed().as_secs());
    }
    times
}

#[tokio::test(start_paused = true)]
async fn calls_per_minute_holds_back_the_call_after_the_limit() {
    let throttle = Throttle::new(&ThrottleSettings::per_minute(3));

    let times = start_times(&throttle, 7).await;

    assert_eq!(times, [0, 0, 0, 60, 60, 60, 120]);
}

#[tokio::test(start_paused = true)]
async fn the_minute_is_a_sliding_window_not_a_fixed_one() {
    let throttle = Throttle::new(&ThrottleSettings::per_minute(2));
    let origin = Instant::now();

    throttle.acquire().await;
    tokio::time::advance(Duration::from_secs(50)).await;
    throttle.acquire().await;
    throttle.acquire().await;
    let third = origin.elapsed();
    throttle.acquire().await;
    let fourth = origin.elapsed();

    assert_eq!(
        third,
        Duration::from_secs(60),
        "first call leaves the window"
    );
    assert_eq!(
        fourth,
        Duration::from_secs(110),
        "second call leaves the window"
    );
}

#[tokio::test(start_paused = true)]
async fn min_interval_spaces_consecutive_calls() {
    let throttle = Throttle::new(&ThrottleSettings {
        min_interval: Duration::from_millis(250),
        calls_per_minute: None,
    });
    let origin = Instant::now();
    let mut times = Vec::new();

    for _ in 0..4 {
        throttle.acquire().await;
        times.push(origin.elapsed().as_millis());
    }

    assert_eq!(times, [0, 250, 500, 750]);
}

#[tokio::test(start_paused = true)]
async fn both_limits_apply_together() {
    let throttle = Throttle::new(&ThrottleSettings {
        min_interval: Duration::from_secs(10),
        calls_per_minute: Some(2),
    });

    let times = start_times(&throttle, 5).await;

    assert_eq!(times, [0, 10, 60, 70, 120]);
}

#[tokio::test(start_paused = true)]
async fn clones_and_concurrent_tasks_share_one_budget() {
    let throttle = Throttle::new(&ThrottleSettings::per_minute(2));
    let origin = Instant::now();

    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let throttle = throttle.clone();
            tokio::spawn(async move {
                throttle.acquire().await;
                origin.elapsed().as_secs()
            })
        })
        .collect();
    let mut times = Vec::new();
    for task in tasks {
        times.push(task.await.unwrap());
    }
    times.sort_unstable();

    assert_eq!(times, [0, 0, 60, 60, 120]);
}

#[tokio::test(start_paused = true)]
async fn an_unlimited_throttle_never_waits() {
    let throttle = Throttle::unlimited();

    let times = start_times(&throttle, 100).await;

    assert!(times.iter().all(|t| *t == 0));
}
