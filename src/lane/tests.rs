use super::*;

fn mask(lanes: &[Lane]) -> LaneMask {
    lanes.iter().fold(LaneMask::EMPTY, |m, &l| m.with(l))
}

#[test]
fn strict_priority_without_shares() {
    let mut picker = LanePicker::new(LaneShares::none());
    let all = mask(&Lane::ALL);
    for _ in 0..1000 {
        assert_eq!(picker.pick(all), Some(Lane::Critical));
    }
    assert_eq!(
        picker.pick(mask(&[Lane::Low, Lane::Normal])),
        Some(Lane::Normal)
    );
    assert_eq!(picker.pick(LaneMask::EMPTY), None);
}

#[test]
fn background_gets_exactly_every_nth_step_under_a_flood() {
    let shares = LaneShares::none().with(Lane::Background, 1, 4).unwrap();
    let mut picker = LanePicker::new(shares);
    let waiting = mask(&[Lane::Critical, Lane::Background]);
    let picks: Vec<Lane> = (0..12).map(|_| picker.pick(waiting).unwrap()).collect();
    use Lane::{Background as B, Critical as C};
    assert_eq!(picks, [C, C, C, B, C, C, C, B, C, C, C, B]);
}

#[test]
fn idle_lane_does_not_bank_credit() {
    let shares = LaneShares::none().with(Lane::Low, 1, 3).unwrap();
    let mut picker = LanePicker::new(shares);
    // Low has no work for a long time: it must not come back owed many steps.
    for _ in 0..100 {
        assert_eq!(picker.pick(mask(&[Lane::High])), Some(Lane::High));
    }
    let waiting = mask(&[Lane::High, Lane::Low]);
    let picks: Vec<Lane> = (0..6).map(|_| picker.pick(waiting).unwrap()).collect();
    use Lane::{High as H, Low as L};
    assert_eq!(picks, [H, H, L, H, H, L]);
}

#[test]
fn lane_served_by_priority_does_not_go_into_debt() {
    let shares = LaneShares::none().with(Lane::Low, 1, 2).unwrap();
    let mut picker = LanePicker::new(shares);
    for _ in 0..10 {
        assert_eq!(picker.pick(mask(&[Lane::Low])), Some(Lane::Low));
    }
    // As soon as High arrives, Low still gets its half: debt would have starved it.
    let picks: Vec<Lane> = (0..4)
        .map(|_| picker.pick(mask(&[Lane::High, Lane::Low])).unwrap())
        .collect();
    assert_eq!(picks, [Lane::High, Lane::Low, Lane::High, Lane::Low]);
}

#[test]
fn several_guarantees_interleave_deterministically() {
    let shares = LaneShares::none()
        .with(Lane::Normal, 1, 3)
        .unwrap()
        .with(Lane::Background, 1, 6)
        .unwrap();
    let mut picker = LanePicker::new(shares);
    let waiting = mask(&[Lane::Critical, Lane::Normal, Lane::Background]);
    let picks: Vec<Lane> = (0..12).map(|_| picker.pick(waiting).unwrap()).collect();
    use Lane::{Background as B, Critical as C, Normal as N};
    // Normal due at 3, 6 (Background also due at 6, but Normal outranks it), Background at 7.
    assert_eq!(picks, [C, C, N, C, C, N, B, C, N, C, C, N]);
    let count = |lane| picks.iter().filter(|&&l| l == lane).count();
    assert!(count(N) >= 12 / 3 && count(B) >= 12 / 6 - 1);
}

#[test]
fn shares_are_validated() {
    assert!(LaneShares::default().with(Lane::Low, 3, 2).is_err());
    assert!(LaneShares::default().with(Lane::Low, 0, 0).is_err());
    let err = LaneShares::default()
        .with(Lane::Critical, 1, 2)
        .unwrap_err();
    assert!(err.to_string().contains("critical"), "{err}");
    assert!(
        LaneShares::none()
            .with(Lane::High, 1, 2)
            .unwrap()
            .with(Lane::Low, 1, 2)
            .is_ok()
    );
}

#[test]
fn lane_names_round_trip() {
    for lane in Lane::ALL {
        assert_eq!(lane.as_str().parse::<Lane>(), Ok(lane));
        assert_eq!(Lane::ALL[lane.index()], lane);
    }
    assert_eq!("BACKGROUND".parse::<Lane>(), Ok(Lane::Background));
}
