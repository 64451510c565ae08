package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/slack-go/slack"
)

// decision is the reminder a person's daily time calls for.
type decision struct {
	days     int // threshold; 0 for the notice after expiry
	daysLeft int
	dueSince time.Time
}

// decide says which reminder, if any, is due at now for a password that
// expires at expires, for a person in zone whose daily time is hour:minute;
// days are the thresholds, ascending.
//
// Nothing is due before the person's daily time today: nobody is messaged
// at night, even by a bot that has just started. From then on, until
// midnight, the answer is that of the daily time itself, so every run that
// day agrees: the smallest threshold at or above the calendar days left,
// or the notice when the password had expired by then. A password that
// expires later in the day gets its notice at the next daily time.
func decide(expires, now time.Time, zone *time.Location, hour, minute int, days []int) (decision, bool) {
	local := now.In(zone)
	slot := dailyTime(local, 0, hour, minute)
	if now.Before(slot) {
		return decision{}, false
	}
	left := calendarDays(slot, expires.In(zone))
	if !expires.After(slot) {
		first := dailyTime(expires.In(zone), 0, hour, minute)
		if first.Before(expires) {
			first = dailyTime(expires.In(zone), 1, hour, minute)
		}
		return decision{days: 0, daysLeft: left, dueSince: first}, true
	}
	if !expires.After(now) {
		return decision{}, false
	}
	i, _ := slices.BinarySearch(days, left) // the smallest threshold >= left
	if i == len(days) {
		return decision{}, false
	}
	return decision{
		days:     days[i],
		daysLeft: left,
		dueSince: dailyTime(expires.In(zone), -days[i], hour, minute),
	}, true
}

// dailyTime is hour:minute on the date of t, plus addDays, in t's zone.
// time.Date settles the days that daylight saving time makes odd.
func dailyTime(t time.Time, addDays, hour, minute int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+addDays, hour, minute, 0, 0, t.Location())
}

// calendarDays is the number of calendar days from the date of from to the
// date of to, each read in its own zone.
func calendarDays(from, to time.Time) int {
	a := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a) / (24 * time.Hour))
}

// errDeactivated marks a person Slack has deactivated: nobody to remind.
var errDeactivated = errors.New("the Slack user is deactivated")

// cachedZone is a person's time zone as users.info gave it.
type cachedZone struct {
	loc         *time.Location
	deactivated bool
	at          time.Time
}

// zoneOf returns the zone a person's daily time is read in: the configured
// one, else their own from users.info (remembered for ZoneTTL).
func (r *Reminder) zoneOf(ctx context.Context, userID string, now time.Time) (*time.Location, error) {
	if r.zone != nil {
		return r.zone, nil
	}
	r.mu.Lock()
	c, ok := r.zones[userID]
	r.mu.Unlock()
	if !ok || now.Sub(c.at) >= r.opts.ZoneTTL || now.Before(c.at) {
		u, err := r.opts.Slack.GetUserInfoContext(ctx, userID)
		if err != nil {
			return nil, fmt.Errorf("users.info for %s: %w", userID, err)
		}
		c = cachedZone{loc: userZone(u), deactivated: u.Deleted, at: now}
		r.mu.Lock()
		r.zones[userID] = c
		r.mu.Unlock()
	}
	if c.deactivated {
		return nil, errDeactivated
	}
	return c.loc, nil
}

// userZone is a Slack user's zone: their tz, else a fixed zone at their
// tz_offset, else UTC.
func userZone(u *slack.User) *time.Location {
	if u.TZ != "" && u.TZ != "Local" {
		if loc, err := time.LoadLocation(u.TZ); err == nil {
			return loc
		}
	}
	if u.TZOffset != 0 {
		return time.FixedZone(u.TZ, u.TZOffset)
	}
	return time.UTC
}

// maxSleep bounds one sleep of Run, so that a wall clock that jumps (a
// host resumed from suspend, a corrected clock) is noticed within the hour.
const maxSleep = time.Hour

// Run sends the reminders until ctx ends, then returns nil. It runs once
// at start (catching up on a day the bot was down), then sleeps until the
// next person's daily time and runs again. A run that could not learn the
// expiry dates is tried again after Options.RetryAfter.
//
// Why a computed wake-up rather than a look every minute: the next daily
// time is cheap to compute, and each run generates a credential report, so
// runs should be few. Only the people near or past expiry at the last run
// are woken for; the others cannot be due before a run that happens at
// least once a day anyway (see nextDue).
func (r *Reminder) Run(ctx context.Context) error {
	next := r.now()
	for {
		if !r.sleepUntil(ctx, next) {
			return nil
		}
		now := r.now()
		rep, err := r.RunOnce(ctx, now, false)
		if ctx.Err() != nil {
			return nil
		}
		next = r.nextDue(now)
		if err != nil {
			if retry := now.Add(r.opts.RetryAfter).Round(0); retry.Before(next) {
				next = retry
			}
			r.log.Error("reminder run failed", slog.Any(keyError, err), slog.Time("next_run", next))
			continue
		}
		sent := 0
		for _, e := range rep.Reminders {
			if e.Outcome == Sent {
				sent++
			}
		}
		r.log.Info("reminder run done", slog.String(keySource, rep.Source), slog.Int("due", len(rep.Reminders)),
			slog.Int("sent", sent), slog.Int("expiring_within_7d", rep.ExpiringSoon), slog.Time("next_run", next))
	}
}

// sleepUntil waits until the clock reads t. It reports false if ctx ended
// first.
func (r *Reminder) sleepUntil(ctx context.Context, t time.Time) bool {
	for {
		d := t.Sub(r.now())
		if d <= 0 {
			return true
		}
		select {
		case <-r.opts.After(min(d, maxSleep)):
		case <-ctx.Done():
			return false
		}
	}
}

// nextDue is when Run should run next after a run at now: the next daily
// time of anyone the run found near or past expiry, and in any case within
// a day.
//
// A day is enough for the others: a run looks at everyone whose password
// expires within the largest threshold plus two days, and someone is first
// due no earlier than a day after they come within that, so the run that
// follows within a day sees them and schedules their daily time.
func (r *Reminder) nextDue(now time.Time) time.Time {
	next := now.Add(24 * time.Hour).Round(0)
	r.mu.Lock()
	defer r.mu.Unlock()
	consider := func(zone *time.Location) {
		t := dailyTime(now.In(zone), 0, r.hour, r.min)
		if !t.After(now) {
			t = dailyTime(now.In(zone), 1, r.hour, r.min)
		}
		if t.Before(next) {
			next = t
		}
	}
	if r.zone != nil {
		if len(r.watched) > 0 {
			consider(r.zone)
		}
		return next
	}
	for user := range r.watched {
		zone := time.UTC
		if c, ok := r.zones[user]; ok && c.loc != nil {
			zone = c.loc
		}
		consider(zone)
	}
	return next
}
