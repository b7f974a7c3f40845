import { Suspense } from "react";
import { AuditExplorer } from "../../components/AuditExplorer.tsx";

export const metadata = { title: "Audit explorer — ComputeHive" };

export default function AuditPage() {
  return (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <AuditExplorer />
    </Suspense>
  );
}
