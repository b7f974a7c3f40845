import { MyBookings } from "../../components/MyBookings.tsx";

export const metadata = { title: "My bookings — ComputeHive" };

export default function BookingsPage() {
  return <MyBookings />;
}
