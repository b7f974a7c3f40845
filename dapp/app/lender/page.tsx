import { LenderDashboard } from "../../components/LenderDashboard.tsx";

export const metadata = { title: "Lender dashboard — ComputeHive" };

export default function LenderPage() {
  return <LenderDashboard />;
}
