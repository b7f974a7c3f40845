import { FindSlot } from "../../components/FindSlot.tsx";

// "Find a slot": the scheduling assistant (issue 7). The page is static; the search runs on the server
// (POST /api/schedule), so the plain-language parser never reaches the browser.
export const metadata = { title: "Find a slot — ComputeHive" };

export default function SchedulePage() {
  return <FindSlot />;
}
