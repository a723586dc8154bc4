/**
 * The schedules of the backup host's timers: the subset of systemd's OnCalendar expressions that pgha accepts
 * (and can reason about): `hourly`, `daily`, `weekly`, or `[DAYS ]*-*-* HH:MM[:SS]` with DAYS a comma list of
 * days and day ranges (Mon..Fri). From them, how old the newest backup or restore drill may be before
 * pgha-status calls it overdue.
 */

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** Minutes after Monday 00:00 at which a schedule fires in one week. */
type WeekEvents = readonly number[];

const CALENDAR = /^(?:(\S+) )?\*-\*-\* ([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$/;

function dayIndex(name: string): number {
    return DAY_NAMES.findIndex((day) => day.toLowerCase() === name.toLowerCase());
}

/** The days (0 = Monday) of a list such as `Mon..Fri,Sun`; undefined when it is not one. */
function parseDays(list: string): number[] | undefined {
    const days = new Set<number>();
    for (const part of list.split(",")) {
        const [from, to, ...rest] = part.split("..");
        const first = dayIndex(from);
        const last = to === undefined ? first : dayIndex(to);
        if (rest.length > 0 || first < 0 || last < first) {
            return undefined;
        }
        for (let day = first; day <= last; day++) {
            days.add(day);
        }
    }
    return [...days];
}

/** When `expression` fires in a week, or undefined when pgha does not accept it. */
function weekEvents(expression: string): WeekEvents | undefined {
    switch (expression) {
        case "hourly":
            return Array.from({ length: 7 * 24 }, (_, hour) => hour * 60);
        case "daily":
            return Array.from({ length: 7 }, (_, day) => day * MINUTES_PER_DAY);
        case "weekly":
            return [0];
    }
    const match = CALENDAR.exec(expression);
    if (!match) {
        return undefined;
    }
    const days = match[1] === undefined ? [0, 1, 2, 3, 4, 5, 6] : parseDays(match[1]);
    const minute = Number(match[2]) * 60 + Number(match[3]);
    return days?.map((day) => day * MINUTES_PER_DAY + minute);
}

/** Why pgha does not accept `expression` as a schedule, or undefined when it does. */
export function scheduleProblem(expression: string): string | undefined {
    return weekEvents(expression) === undefined
        ? `${JSON.stringify(expression)} is not a schedule pgha knows; use hourly, daily, weekly or a systemd calendar such as "Sun *-*-* 01:00:00" or "Mon..Sat *-*-* 01:00"`
        : undefined;
}

/** The longest time, in hours, between two consecutive events of the schedules together (empty ones skipped). */
export function longestGapHours(expressions: readonly string[]): number {
    const events = [...new Set(expressions.filter((e) => e !== "").flatMap((e) => {
        const week = weekEvents(e);
        if (week === undefined) {
            throw new Error(scheduleProblem(e));
        }
        return week;
    }))].sort((a, b) => a - b);
    if (events.length === 0) {
        throw new Error("no schedule given");
    }
    const gaps = events.map((event, i) => (i + 1 < events.length ? events[i + 1] : events[0] + MINUTES_PER_WEEK) - event);
    return Math.max(...gaps) / 60;
}

/**
 * How old, in seconds, the newest result of the schedules may be before it is overdue: the longest gap between
 * two runs plus a quarter of it (at least an hour), the time a backup or a drill may take.
 */
export function overdueAfterSeconds(expressions: readonly string[]): number {
    const gap = longestGapHours(expressions);
    return Math.round((gap + Math.max(gap / 4, 1)) * 3600);
}
