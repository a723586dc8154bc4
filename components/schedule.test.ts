import * as fc from "fast-check";
import { longestGapHours, overdueAfterSeconds, scheduleProblem } from "./schedule";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

describe("schedules of the backup host's timers", () => {
    test.each(["hourly", "daily", "weekly", "Sun *-*-* 01:00:00", "Mon..Sat *-*-* 01:00", "Mon,Wed,Fri *-*-* 23:59:59", "*-*-* 04:30", "mon..fri *-*-* 1:05"])("accepts %s", (expression) => {
        expect(scheduleProblem(expression)).toBeUndefined();
    });

    test.each(["", "sometimes", "Sun 01:00", "Sat..Mon *-*-* 01:00", "Sun *-*-* 24:00", "Sun *-*-* 01:60", "Mon..Sat..Sun *-*-* 01:00", "2026-*-* 01:00", "Sun *-*-* 01:00 UTC"])("refuses %j", (expression) => {
        expect(scheduleProblem(expression)).toMatch(/is not a schedule pgha knows/);
    });

    test("the default full and differential backups: one a day, the drill once a week", () => {
        expect(longestGapHours(["Sun *-*-* 01:00:00", "Mon..Sat *-*-* 01:00:00"])).toBe(24);
        expect(longestGapHours(["Sun *-*-* 05:00:00"])).toBe(168);
        expect(overdueAfterSeconds(["Sun *-*-* 01:00:00", "Mon..Sat *-*-* 01:00:00"])).toBe(30 * 3600);
        expect(overdueAfterSeconds(["hourly"])).toBe(2 * 3600);
    });

    test("days without a backup widen the gap: weekdays only leave Friday to Monday", () => {
        expect(longestGapHours(["Mon..Fri *-*-* 02:00"])).toBe(72);
        expect(longestGapHours(["Mon,Thu *-*-* 00:00", ""])).toBe(96);
    });

    test("property: the longest gap of any set of days at one time is 24 h times the longest run of missing days plus one", () => {
        fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }), fc.integer({ min: 0, max: 23 }), (days, hour) => {
            const expression = `${days.map((d) => DAYS[d]).join(",")} *-*-* ${hour}:00`;
            const sorted = [...days].sort((a, b) => a - b);
            const longest = Math.max(...sorted.map((d, i) => (i + 1 < sorted.length ? sorted[i + 1] : sorted[0] + 7) - d));
            expect(longestGapHours([expression])).toBe(longest * 24);
        }));
    });

    test("property: adding a schedule never widens the gap, and overdue always exceeds the gap", () => {
        const schedule = fc.constantFrom("hourly", "daily", "weekly", "Sun *-*-* 01:00", "Mon..Sat *-*-* 01:00", "Wed *-*-* 12:30", "Mon,Fri *-*-* 06:00");
        fc.assert(fc.property(schedule, schedule, (a, b) => {
            expect(longestGapHours([a, b])).toBeLessThanOrEqual(longestGapHours([a]));
            expect(overdueAfterSeconds([a, b])).toBeGreaterThan(longestGapHours([a, b]) * 3600);
        }));
    });
});
