//! Store opening hours and deadlines counted in opening time, in the store's
//! own time zone (daylight saving included).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTES_PER_DAY: u32 = 24 * 60;
/// How far ahead a deadline search looks before giving up on a calendar.
const SEARCH_DAYS: i64 = 2 * 366;

/// An opening interval in minutes after local midnight; `close` may be 1440.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub open: u32,
    pub close: u32,
}

/// The weekly timetable of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    pub time_zone: Tz,
    /// Monday first.
    pub week: [Vec<Interval>; 7],
    pub closed_dates: BTreeSet<NaiveDate>,
}

/// The API's JSON form: `{"mon":[["09:00","19:00"]],...}`.
pub type WeeklyJson = BTreeMap<String, Vec<[String; 2]>>;

fn parse_clock(text: &str) -> Option<u32> {
    if text == "24:00" {
        return Some(MINUTES_PER_DAY);
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M").ok()?;
    Some(chrono::Timelike::hour(&time) * 60 + chrono::Timelike::minute(&time))
}

fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl OpeningHours {
    /// Open around the clock: the default for a store created without hours.
    pub fn always_open(time_zone: Tz) -> Self {
        let all_day = vec![Interval {
            open: 0,
            close: MINUTES_PER_DAY,
        }];
        Self {
            time_zone,
            week: std::array::from_fn(|_| all_day.clone()),
            closed_dates: BTreeSet::new(),
        }
    }

    /// Parses and checks the API form. Days left out are closed.
    pub fn parse(
        time_zone: &str,
        weekly: &WeeklyJson,
        closed_dates: &[String],
    ) -> Result<Self, String> {
        let time_zone: Tz = time_zone
            .parse()
            .map_err(|_| format!("`{time_zone}` is not an IANA time zone such as Europe/Paris"))?;
        if let Some(unknown) = weekly.keys().find(|k| !DAY_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "`{unknown}` is not a day; use mon, tue, wed, thu, fri, sat, sun"
            ));
        }
        let mut week: [Vec<Interval>; 7] = Default::default();
        for (index, key) in DAY_KEYS.iter().enumerate() {
            let mut intervals = Vec::new();
            for [open, close] in weekly.get(*key).map(Vec::as_slice).unwrap_or(&[]) {
                let (Some(o), Some(c)) = (parse_clock(open), parse_clock(close)) else {
                    return Err(format!(
                        "{key}: times are HH:MM (24:00 allowed as a close), got {open}-{close}"
                    ));
                };
                if o >= c {
                    return Err(format!("{key}: {open}-{close} closes before it opens"));
                }
                intervals.push(Interval { open: o, close: c });
            }
            intervals.sort_by_key(|i| i.open);
            if intervals.windows(2).any(|w| w[0].close > w[1].open) {
                return Err(format!("{key}: opening intervals overlap"));
            }
            week[index] = intervals;
        }
        if week.iter().all(Vec::is_empty) {
            return Err("a store must open at least once a week".into());
        }
        let closed_dates = closed_dates
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| format!("closed date `{d}` is not YYYY-MM-DD"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            time_zone,
            week,
            closed_dates,
        })
    }

    /// Back to the API form.
    pub fn to_json(&self) -> WeeklyJson {
        DAY_KEYS
            .iter()
            .zip(self.week.iter())
            .map(|(key, intervals)| {
                let list = intervals
                    .iter()
                    .map(|i| [format_clock(i.open), format_clock(i.close)])
                    .collect();
                ((*key).to_string(), list)
            })
            .collect()
    }

    pub fn closed_dates_json(&self) -> Vec<String> {
        self.closed_dates.iter().map(|d| d.to_string()).collect()
    }

    fn intervals_on(&self, date: NaiveDate) -> &[Interval] {
        if self.closed_dates.contains(&date) {
            return &[];
        }
        &self.week[date.weekday().num_days_from_monday() as usize]
    }

    /// The instant of a local wall-clock time. In the spring-forward gap the
    /// clock jumps, so the first instant after the gap is used.
    fn instant(&self, date: NaiveDate, minutes: u32) -> DateTime<Utc> {
        let (date, minutes) = if minutes >= MINUTES_PER_DAY {
            (date + Duration::days(1), minutes - MINUTES_PER_DAY)
        } else {
            (date, minutes)
        };
        let mut local = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minutes));
        for _ in 0..4 {
            if let Some(at) = self.time_zone.from_local_datetime(&local).earliest() {
                return at.with_timezone(&Utc);
            }
            local += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }

    /// Opening periods as instants, from the local day of `from` on.
    fn periods_from(
        &self,
        from: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first_day = from.with_timezone(&self.time_zone).date_naive() - Duration::days(1);
        (0..SEARCH_DAYS).flat_map(move |offset| {
            let date = first_day + Duration::days(offset);
            self.intervals_on(date)
                .iter()
                .map(move |i| (self.instant(date, i.open), self.instant(date, i.close)))
        })
    }

    /// Whether the store is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.periods_from(at)
            .take_while(|(open, _)| *open <= at)
            .any(|(open, close)| open <= at && at < close)
    }

    /// The instant when `minutes` of opening time have passed after `start`.
    /// A deadline that runs out exactly at closing time stays at closing time.
    pub fn add_open_minutes(&self, start: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        let mut remaining = Duration::minutes(i64::from(minutes));
        if remaining.is_zero() {
            return start;
        }
        for (open, close) in self.periods_from(start) {
            let from = open.max(start);
            if from >= close {
                continue;
            }
            let span = close - from;
            if remaining <= span {
                return from + remaining;
            }
            remaining -= span;
        }
        // Only reachable for a calendar closed for two years: count wall time.
        start + remaining
    }

    /// Opening minutes between two instants (zero if `to` is before `from`).
    pub fn open_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let mut total = Duration::zero();
        for (open, close) in self.periods_from(from) {
            if open >= to {
                break;
            }
            let start = open.max(from);
            let end = close.min(to);
            if end > start {
                total += end - start;
            }
        }
        total.num_minutes()
    }

    /// Pickup deadline: closing time of the day `days` after `from`, or of the
    /// next day the store opens if it is closed that day.
    pub fn pickup_deadline(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let target =
            from.with_timezone(&self.time_zone).date_naive() + Duration::days(i64::from(days));
        for offset in 0..SEARCH_DAYS {
            let date = target + Duration::days(offset);
            if let Some(last) = self.intervals_on(date).last() {
                let close = self.instant(date, last.close);
                if close > from {
                    return close;
                }
            }
        }
        from + Duration::days(i64::from(days))
    }

    /// Weekday helper for messages.
    pub fn weekday_of(&self, at: DateTime<Utc>) -> Weekday {
        at.with_timezone(&self.time_zone).weekday()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Mon-Sat 09:00-19:00, closed on Sunday, in Paris.
    fn paris_shop() -> OpeningHours {
        let mut weekly = WeeklyJson::new();
        for day in ["mon", "tue", "wed", "thu", "fri", "sat"] {
            weekly.insert(day.into(), vec![["09:00".into(), "19:00".into()]]);
        }
        weekly.insert("sun".into(), vec![]);
        OpeningHours::parse("Europe/Paris", &weekly, &[]).unwrap()
    }

    fn paris(text: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::Paris
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn two_hours_on_saturday_evening_land_on_monday() {
        // 2026-11-21 is a Saturday.
        let start = paris("2026-11-21 18:30");
        let deadline = paris_shop().add_open_minutes(start, 120);
        assert_eq!(deadline, paris("2026-11-23 10:30"));
    }

    #[test]
    fn closed_dates_and_lunch_breaks_are_skipped() {
        let mut weekly = WeeklyJson::new();
        for day in ["mon", "tue", "wed", "thu", "fri"] {
            weekly.insert(
                day.into(),
                vec![
                    ["09:00".into(), "12:30".into()],
                    ["14:00".into(), "19:00".into()],
                ],
            );
        }
        let hours = OpeningHours::parse("Europe/Paris", &weekly, &["2026-11-24".into()]).unwrap();
        // Monday 12:00 + 60 min: 30 before lunch, 30 after.
        assert_eq!(
            hours.add_open_minutes(paris("2026-11-23 12:00"), 60),
            paris("2026-11-23 14:30")
        );
        // Monday 18:30 + 60: Tuesday is a closed date, so Wednesday 09:30.
        assert_eq!(
            hours.add_open_minutes(paris("2026-11-23 18:30"), 60),
            paris("2026-11-25 09:30")
        );
        assert!(!hours.is_open(paris("2026-11-24 10:00")));
        assert!(hours.is_open(paris("2026-11-25 10:00")));
        assert!(!hours.is_open(paris("2026-11-25 13:00")));
    }

    #[test]
    fn daylight_saving_day_counts_real_time() {
        // 2026-03-29: Paris jumps from 02:00 to 03:00. Open 00:00-24:00 that day
        // is 23 real hours.
        let hours = OpeningHours::always_open(chrono_tz::Europe::Paris);
        let start = paris("2026-03-29 00:00");
        let end = hours.add_open_minutes(start, 23 * 60);
        assert_eq!(end, paris("2026-03-30 00:00"));
    }

    #[test]
    fn pickup_deadline_is_a_closing_time() {
        let shop = paris_shop();
        // Set aside Thursday 10:00 + 3 days = Sunday (closed) -> Monday 19:00.
        assert_eq!(
            shop.pickup_deadline(paris("2026-11-19 10:00"), 3),
            paris("2026-11-23 19:00")
        );
        // Monday + 3 days = Thursday 19:00.
        assert_eq!(
            shop.pickup_deadline(paris("2026-11-23 10:00"), 3),
            paris("2026-11-26 19:00")
        );
    }

    #[test]
    fn bad_timetables_are_refused_with_reasons() {
        let mut weekly = WeeklyJson::new();
        weekly.insert("mon".into(), vec![["19:00".into(), "09:00".into()]]);
        assert!(
            OpeningHours::parse("Europe/Paris", &weekly, &[])
                .unwrap_err()
                .contains("closes before")
        );
        let mut weekly = WeeklyJson::new();
        weekly.insert("lundi".into(), vec![["09:00".into(), "19:00".into()]]);
        assert!(
            OpeningHours::parse("Europe/Paris", &weekly, &[])
                .unwrap_err()
                .contains("not a day")
        );
        let mut weekly = WeeklyJson::new();
        weekly.insert("mon".into(), vec![["09:00".into(), "19:00".into()]]);
        assert!(
            OpeningHours::parse("Mars/Olympus", &weekly, &[])
                .unwrap_err()
                .contains("IANA")
        );
        assert!(OpeningHours::parse("Europe/Paris", &WeeklyJson::new(), &[]).is_err());
        weekly.insert(
            "tue".into(),
            vec![
                ["09:00".into(), "13:00".into()],
                ["12:00".into(), "19:00".into()],
            ],
        );
        assert!(
            OpeningHours::parse("Europe/Paris", &weekly, &[])
                .unwrap_err()
                .contains("overlap")
        );
    }

    proptest! {
        /// Adding a then b minutes equals adding a + b, the result never comes
        /// before the start, and exactly the asked opening minutes lie between.
        #[test]
        fn open_time_adds_up(offset_minutes in 0i64..(14 * 24 * 60), a in 1u32..3000, b in 1u32..3000) {
            let shop = paris_shop();
            let start = paris("2026-10-20 00:00") + Duration::minutes(offset_minutes);
            let once = shop.add_open_minutes(start, a + b);
            let twice = shop.add_open_minutes(shop.add_open_minutes(start, a), b);
            prop_assert_eq!(once, twice);
            prop_assert!(once > start);
            prop_assert_eq!(shop.open_minutes_between(start, once), i64::from(a + b));
        }
    }
}
