// The market's per-listing calendar as the chain stores it (contracts/src/libraries/CalendarLib.sol): slot
// s = timestamp / slotLength is bit s % 256 of word s / 256, read with `calendarWord(listingId, word)`.

/** Words read from the chain: word index → the 256-bit word. */
export type CalendarWords = ReadonlyMap<number, bigint>;

export function slotOf(unix: number, slotLength: number): number {
  return Math.floor(unix / slotLength);
}

/** The word indices that hold the slots [fromSlot, toSlot). */
export function wordsForSlots(fromSlot: number, toSlot: number): number[] {
  if (toSlot <= fromSlot) return [];
  const out: number[] = [];
  for (let w = Math.floor(fromSlot / 256); w <= Math.floor((toSlot - 1) / 256); w++) out.push(w);
  return out;
}

/** Whether slot `s` is taken. Throws when its word was not read (never guess a slot free). */
export function slotTaken(words: CalendarWords, s: number): boolean {
  const word = words.get(Math.floor(s / 256));
  if (word === undefined) throw new RangeError(`calendar word ${Math.floor(s / 256)} was not read`);
  return ((word >> BigInt(s % 256)) & 1n) === 1n;
}

/** Whether every slot of [s0, s1) is free (CalendarLib.isFree). */
export function windowFree(words: CalendarWords, s0: number, s1: number): boolean {
  for (let s = s0; s < s1; s++) if (slotTaken(words, s)) return false;
  return true;
}

/** The runs of taken slots in [fromSlot, toSlot), as [start, end) slot pairs. */
export function takenRuns(words: CalendarWords, fromSlot: number, toSlot: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let runStart: number | null = null;
  for (let s = fromSlot; s < toSlot; s++) {
    const taken = slotTaken(words, s);
    if (taken && runStart === null) runStart = s;
    if (!taken && runStart !== null) {
      runs.push([runStart, s]);
      runStart = null;
    }
  }
  if (runStart !== null) runs.push([runStart, toSlot]);
  return runs;
}

export type SlotState = "taken" | "free" | "unavailable";

export interface DaySlots {
  /** Unix start of each slot of the day (slot-aligned). */
  starts: number[];
  states: SlotState[];
  /** Taken stretches, unix [start, end). */
  taken: Array<[number, number]>;
}

/**
 * The slots of [from, to) (unix, a local day): taken on the calendar, free, or unavailable because they start
 * before `earliest` (now + the listing's lead time).
 */
export function daySlots(
  words: CalendarWords,
  from: number,
  to: number,
  slotLength: number,
  earliest: number,
): DaySlots {
  const s0 = Math.ceil(from / slotLength);
  const s1 = Math.ceil(to / slotLength);
  const starts: number[] = [];
  const states: SlotState[] = [];
  for (let s = s0; s < s1; s++) {
    const t = s * slotLength;
    starts.push(t);
    states.push(slotTaken(words, s) ? "taken" : t < earliest ? "unavailable" : "free");
  }
  const taken = takenRuns(words, s0, s1).map(
    ([a, b]) => [a * slotLength, b * slotLength] as [number, number],
  );
  return { starts, states, taken };
}
